from gcp_setup.cli import main

main()
