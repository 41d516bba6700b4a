# Included by tests/CMakeLists.txt for this folder: llama.cpp (node-llama-cpp's prebuilt binaries)
# reads the GGUF files dsv2 writes. Label "node" like the openai client test; skipped (77)
# without node/npm or the npm registry.
add_test(NAME gguf_llama_cpp_compat
         COMMAND ${CMAKE_CURRENT_SOURCE_DIR}/tools/llama_cpp_compat.sh $<TARGET_FILE:dsv2>
                 ${DSV2_SHARED_DIR}/fixtures/models/tiny-coder ${CMAKE_BINARY_DIR}/llama_cpp_compat)
set_tests_properties(gguf_llama_cpp_compat PROPERTIES LABELS "node" SKIP_RETURN_CODE 77 TIMEOUT 600)
