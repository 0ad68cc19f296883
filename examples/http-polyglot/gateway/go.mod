// The bindings `wcomp build` generates import this module's packages as `wit_component/...`,
// so the module keeps that name. Add dependencies as usual (`go get <module>`).
module wit_component

go 1.25

require go.bytecodealliance.org/pkg v0.4.0
