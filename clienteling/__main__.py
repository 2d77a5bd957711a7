from clienteling.cli import main

raise SystemExit(main())
