from ioc.cli.main import run

run()
