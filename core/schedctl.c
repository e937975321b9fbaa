/* core/schedctl.c: to be written by the foundation (issue 2) work. */
int main(void)
{
    return 1;
}
