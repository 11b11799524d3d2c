"""Alerting and the dashboard: what the on-call sees, built from the catalogue."""

from infra.monitoring.component import Monitoring, MonitoringArgs

__all__ = ["Monitoring", "MonitoringArgs"]
