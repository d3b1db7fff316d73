"""Photos: reading them safely, annotating them, saving annotated copies and their faces.csv."""
