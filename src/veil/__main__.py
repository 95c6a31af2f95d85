from veil.cli.main import run

if __name__ == "__main__":  # a spawned child process imports this module without running the CLI again
    run()
