"""One frame to one result: detect, crop, classify in one batch, track and hold labels; the shared models."""
