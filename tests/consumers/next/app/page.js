export default function Page() { return <p>hookseal consumer</p>; }
