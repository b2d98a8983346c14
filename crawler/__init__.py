"""The crawler stage: platform profiles, polite HTTP fetching, page parsing and crawl runs."""
