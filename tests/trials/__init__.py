"""Long-running trial scripts (not collected by pytest): crash trials and the fault table."""
