from fleet.cli import main

# The guard matters: the demo starts its sweep and simulators as spawned processes, which re-import the main module.
if __name__ == "__main__":
    main()
