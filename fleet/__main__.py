from fleet.cli import main

# The guard matters: the IPMI batch poller starts worker processes that re-import the main module.
if __name__ == "__main__":
    main()
