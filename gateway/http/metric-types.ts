/** Label name → value of one series. */
export type Labels = Record<string, string>;

/** One series of a metric and its value. */
export type Sample = [Labels, number];

/** Registers a metric whose series are read at every scrape. */
export type Define = (name: string, help: string, labelNames: string[], read: () => Sample[]) => void;
