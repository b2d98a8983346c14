"""The offline demo marketplace (沙箱商城): generated shops and listings served over HTTP."""
