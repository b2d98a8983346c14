"""Detection: the keyword lexicon engine, the certificate checks and the suite that runs them."""
