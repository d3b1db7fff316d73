from fer_training.cli import main

raise SystemExit(main())
