"""Plumbing every feature uses: user errors, atomic files, resources and user folders, logs, threads, devices."""
