from veil.cli.main import run

run()
