"""Discovery: map an unknown phone line into a draft menu file by calling it, and fix maps from traces."""
