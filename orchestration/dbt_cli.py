"""`sijil-dbt`: dbt itself, except that `dbt --version` answers from the installed package.

dagster-dbt runs `dbt --version` before every dbt step to learn the version, and dbt's answer
looks up the newest release on pypi.org: a network call on every run, which offline costs a
timeout or a DNS wait. Every other command goes to dbt's own entry point unchanged.
"""

import sys

VERSION_FLAGS = (["--version"], ["-V"], ["-v"])


def main() -> int:
    if sys.argv[1:] in VERSION_FLAGS:
        from dbt.version import __version__

        print(f"Core:\n  - installed: {__version__}\n")
        return 0
    from dbt.cli.main import cli

    return cli()


if __name__ == "__main__":
    sys.exit(main())
