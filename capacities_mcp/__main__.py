"""`python -m capacities_mcp` is the same as the `capacities-mcp` command."""

from capacities_mcp.cli import main

if __name__ == "__main__":
    raise SystemExit(main())
