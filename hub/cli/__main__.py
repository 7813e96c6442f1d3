from hub.cli.app import main

main()
