//! layersift library

pub mod fixture;
