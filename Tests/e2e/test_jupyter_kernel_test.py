"""jupyter_kernel_test's protocol conformance suite, configured for the Graphsmith language."""
import unittest

import jupyter_kernel_test as jkt


class GraphsmithKernelTests(jkt.KernelTests):
    kernel_name = "graphsmith"
    language_name = "graphsmith"
    file_extension = ".gsm"

    code_hello_world = "echo hello, world"
    code_stderr = "echo --stderr oops"
    code_generate_error = "nosuchcommand"
    code_execute_result = [
        {"code": "print 1 + 1", "result": "2"},
        {"code": "print 6 * 7", "result": "42"},
    ]
    code_display_data = [{"code": "help", "mime": "text/html"}]
    code_clear_output = "clear"

    completion_samples = [{"text": "ech", "matches": ["echo"]}]
    complete_code_samples = ["echo hello", "print 1 + 1", "x = 1"]
    incomplete_code_samples = ['echo "abc', "echo abc \\", "print (1 +"]
    invalid_code_samples = ["print )"]

    code_inspect_sample = "help"
    code_page_something = "load?"

    supported_history_operations = ("tail", "range", "search")
    code_history_pattern = "print 6*"


if __name__ == "__main__":
    unittest.main()
