"""Everything users see: texts, result delivery, replies."""
