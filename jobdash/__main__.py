from jobdash.cli import main

raise SystemExit(main())
