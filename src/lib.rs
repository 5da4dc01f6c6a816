//! layersift library
