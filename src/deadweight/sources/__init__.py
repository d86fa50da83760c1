"""Image media: every place an image can live, one module each."""
