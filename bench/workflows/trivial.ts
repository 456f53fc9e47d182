/**
 * The baseline workload: a workflow that does nothing. Its cost is Temporal's own per-workflow
 * cost (start, one workflow task, completion), which is what the app's issuing is compared with.
 */
export async function trivialWorkflow(): Promise<void> {
  // Deliberately empty: any work here would stop it being a floor.
}
