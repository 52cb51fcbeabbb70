import { defineConfig } from "vitest/config";

export default defineConfig({
  test: {
    include: ["test/**/*.test.ts"],
    // Tests start real processes and peers on fixed loopback addresses; two
    // workers match the two cores CI has.
    pool: "forks",
    maxWorkers: 2,
    // Bounds for a loaded machine: some tests run the CLI a dozen times, and
    // each start of the binary takes seconds when the cores are busy.
    testTimeout: 90_000,
    hookTimeout: 120_000,
    reporters: ["default"],
  },
});
