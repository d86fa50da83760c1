"""Pure analyses over images: data in, frozen results out."""
