//! The canonical scenario, the Bắc Kạn online conference of 23 July 2021: the one in
//! [`hoinghi_client::bac_kan`], with its linked bridges also named [`SITES`] here.

pub use hoinghi_client::bac_kan::LINKED as SITES;
pub use hoinghi_client::bac_kan::*;
