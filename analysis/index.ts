/** Metrics and statistics of trained networks, and what their modules follow. */
export * from './accuracy.ts';
export * from './assortativity.ts';
export * from './entropy.ts';
export * from './graph.ts';
export * from './labellings.ts';
export * from './metrics.ts';
export * from './modularity.ts';
export * from './module_alignment.ts';
export * from './modularity_weighted.ts';
export * from './partition.ts';
export * from './smallworld.ts';
export * from './stats.ts';
