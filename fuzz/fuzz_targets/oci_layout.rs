//! OCI layout parsing (index, nested indexes, manifest, config; see `layersift_fuzz` for the
//! input's parts), then decoding and analysing what opens: an `Err`, or an image whose
//! outputs keep their promises.
#![no_main]

use layersift::Transport;
use libfuzzer_sys::fuzz_target;

fuzz_target!(|data: &[u8]| layersift_fuzz::image_contract(Transport::Oci, data));
