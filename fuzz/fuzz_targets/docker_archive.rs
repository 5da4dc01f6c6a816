//! A docker archive's `manifest.json`, its config and layers (see `layersift_fuzz` for the
//! input's parts), then decoding and analysing what opens.
#![no_main]

use layersift::Transport;
use libfuzzer_sys::fuzz_target;

fuzz_target!(|data: &[u8]| layersift_fuzz::image_contract(Transport::DockerArchive, data));
