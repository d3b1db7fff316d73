from fer_desktop.cli import main

if __name__ == "__main__":  # a batch job's worker processes import this module again (spawn)
    raise SystemExit(main())
