# Included by tests/CMakeLists.txt for this folder. The openai npm client against `dsv2 serve`:
# needs node and npm (skipped, exit 77, when they or the registry are missing).
add_test(NAME server_openai_js
         COMMAND ${CMAKE_CURRENT_SOURCE_DIR}/server/js/run_openai_test.sh $<TARGET_FILE:dsv2>
                 ${DSV2_SHARED_DIR}/fixtures/golden/text-bf16/model ${CMAKE_BINARY_DIR}/server_js)
set_tests_properties(server_openai_js PROPERTIES LABELS "node" SKIP_RETURN_CODE 77 TIMEOUT 300)
