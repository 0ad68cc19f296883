// The bindings `wcomp build` generates import this module's packages as `wit_component/...`,
// so the module keeps that name. Add dependencies as usual (`go get <module>`).
module wit_component

go {{go_version}}

require {{runtime_module}} {{runtime_version}}
