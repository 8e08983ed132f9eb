//! Binds `fermyon:spin/variables@2.0.0` to [`crate::variables::Variables`].

use crate::runtime::InstanceState;
use crate::variables::VariableError;

wasmtime::component::bindgen!({
    inline: "package host:variables; world variables { import fermyon:spin/variables@2.0.0; }",
    path: "../../wit",
    imports: { default: async },
});

use fermyon::spin::variables::{Error, Host};

impl Host for InstanceState {
    async fn get(&mut self, name: String) -> Result<String, Error> {
        self.variables
            .get(&self.component, &name)
            .map_err(|e| match e {
                VariableError::InvalidName(m) => Error::InvalidName(m),
                VariableError::Undefined(m) => Error::Undefined(m),
            })
    }
}

/// Adds the variables interface to a linker over [`InstanceState`].
pub fn add_to_linker(
    linker: &mut wasmtime::component::Linker<InstanceState>,
) -> anyhow::Result<()> {
    fermyon::spin::variables::add_to_linker::<_, wasmtime::component::HasSelf<_>>(linker, |s| s)
        .map_err(anyhow::Error::from)
}
