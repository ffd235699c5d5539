/** A local composite action the act tests' workflows call (`uses: ./.github/actions/greet`). */
export const GREET_ACTION = `name: greet
inputs:
  who: { required: true }
runs:
  using: composite
  steps:
    - run: echo "hi \${{ inputs.who }}"
      shell: bash
`;
