from componentize_py_types import {{result_types}}
from wit_world import exports
{{#keyvalue}}
from wit_world.imports import atomics
{{/keyvalue}}
{{#config}}
from wit_world.imports import {{config_store}} as config
{{/config}}
{{#keyvalue}}
from wit_world.imports import {{keyvalue_store}} as keyvalue
{{/keyvalue}}
