/*
 * A binary min-heap that can also remove any of its items: every push, pop and remove is
 * O(log n). Each item remembers its own position, so the lane can drop a cancelled or granted
 * request without scanning.
 */
export class Heap<T extends object> {
	private readonly items: T[] = [];

	private readonly position = new WeakMap<T, number>();

	constructor(private readonly before: (a: T, b: T) => boolean) {}

	get size(): number {
		return this.items.length;
	}

	peek(): T | undefined {
		return this.items[0];
	}

	push(item: T): void {
		this.items.push(item);
		this.position.set(item, this.items.length - 1);
		this.up(this.items.length - 1);
	}

	pop(): T | undefined {
		const top = this.items[0];
		if (top !== undefined) this.remove(top);
		return top;
	}

	remove(item: T): void {
		const index = this.position.get(item);
		if (index === undefined) return;
		this.position.delete(item);
		const last = this.items.pop()!;
		if (index === this.items.length) return;
		this.items[index] = last;
		this.position.set(last, index);
		this.up(index);
		this.down(this.position.get(last)!);
	}

	private up(index: number): void {
		while (index > 0) {
			const parent = (index - 1) >> 1;
			if (!this.before(this.items[index], this.items[parent])) return;
			this.swap(index, parent);
			index = parent;
		}
	}

	private down(index: number): void {
		for (;;) {
			const left = 2 * index + 1;
			const right = left + 1;
			let first = index;
			if (left < this.items.length && this.before(this.items[left], this.items[first])) first = left;
			if (right < this.items.length && this.before(this.items[right], this.items[first])) first = right;
			if (first === index) return;
			this.swap(index, first);
			index = first;
		}
	}

	private swap(a: number, b: number): void {
		const itemA = this.items[a];
		const itemB = this.items[b];
		this.items[a] = itemB;
		this.items[b] = itemA;
		this.position.set(itemB, a);
		this.position.set(itemA, b);
	}
}

/** A first-in first-out queue with O(1) shift (an array with a moving head, compacted now and then). */
export class Queue<T> {
	private items: T[] = [];

	private head = 0;

	get length(): number {
		return this.items.length - this.head;
	}

	push(item: T): void {
		this.items.push(item);
	}

	peek(): T | undefined {
		return this.at(0);
	}

	/** The item `index` places behind the head. */
	at(index: number): T | undefined {
		return this.head + index < this.items.length ? this.items[this.head + index] : undefined;
	}

	shift(): T | undefined {
		if (this.head >= this.items.length) return undefined;
		const item = this.items[this.head++];
		if (this.head > 1024 && this.head * 2 > this.items.length) {
			this.items = this.items.slice(this.head);
			this.head = 0;
		}
		return item;
	}
}
