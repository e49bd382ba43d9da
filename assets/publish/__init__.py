"""Publishing: write-audit-publish of the warehouse and the pseudonymised analytics warehouse."""
