"""Face detection and cropping, MediaPipe landmarks and the landmark index sets of face regions."""
