"""Several VTN processes on one PostgreSQL: the lifecycle leader, dedicated connections, LISTEN/NOTIFY."""
