"""Points, the sink contract, collectors and the durable writer to InfluxDB."""
