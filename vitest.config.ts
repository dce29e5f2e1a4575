import { defineConfig } from "vitest/config";

export default defineConfig({
  test: {
    include: ["packages/*/test/**/*.test.ts", "test/**/*.test.ts"],
    globalSetup: ["test-support/global-setup.ts"],
    testTimeout: 60_000,
    hookTimeout: 30_000,
    // Two cores: files that spawn processes and servers run two at a time at most.
    maxWorkers: 2,
    reporters: ["default", ["json", { outputFile: ".vitest-results.json" }]],
  },
});
