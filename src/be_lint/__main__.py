from be_lint.cli import main

main()
