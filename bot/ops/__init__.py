"""Operations: metrics, health checks, logs, what each turn records, the funnel."""
