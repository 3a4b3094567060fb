from ioc.cli.main import main

main()
