"""shangquan (商圈): planning layers and 15-minute life-circle analysis for Shanghai."""

__version__ = "0.1.0"
