// cuda_bf16.h for the device emulator: the types are in cuda_shim.h.
#pragma once
