/* SPDX-License-Identifier: Apache-2.0 */
/* The Rego conformance suite as a TAP test; the runner is tests/conformance/runner.c. */
int rego_conformance_main(int argc, char **argv);

int main(int argc, char **argv)
{
    return rego_conformance_main(argc, argv);
}
